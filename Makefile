# Giving: every command a contributor needs. `make help` lists them.
SHELL := /bin/bash
GOBIN := $(shell go env GOPATH)/bin
export PATH := $(GOBIN):$(PATH)
STRIPE_MOCK_VERSION := v0.183.0
SQL_TEST_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
export TEST_DATABASE_URL ?= $(SQL_TEST_URL)

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

.PHONY: run
run: ## run everything locally: private PostgreSQL under .data/, sandbox payments, http://127.0.0.1:8080/
	go run ./cmd/giving dev

.PHONY: build
build: ## build the binary into bin/giving
	go build -o bin/giving ./cmd/giving

.PHONY: tools
tools: ## install the pinned test tools (stripe-mock) if missing
	@test -x $(GOBIN)/stripe-mock || { echo "installing stripe-mock $(STRIPE_MOCK_VERSION)"; go install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION); }

.PHONY: test
test: tools ## run every test with the race detector (needs PostgreSQL: TEST_DATABASE_URL), then fuzz the amount parser for 15 s
	go test -race -count=1 -timeout 14m ./...
	go test -run='^$$' -fuzz=FuzzParseAmount -fuzztime=15s ./payments

.PHONY: lint
lint: ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	@command -v staticcheck >/dev/null || go install honnef.co/go/tools/cmd/staticcheck@latest
	staticcheck ./...

.PHONY: bench
bench: ## measure throughput, latency and memory against the targets (loopback only, bounded)
	go test -run='^$$' -bench=. -benchmem -count=1 ./campaigns ./payments ./web
	go run ./cmd/givingbench

.PHONY: clean
clean: ## remove the build output (keeps .data/, your local database)
	rm -rf bin
