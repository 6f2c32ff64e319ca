# Giving: every command a contributor needs. `make` or `make help` lists them; a target is
# documented by the `## ` comment on its line.
SHELL := /bin/bash
GOBIN := $(shell go env GOPATH)/bin
# Tools installed with `go install` land in GOBIN, which is often not on PATH.
export PATH := $(GOBIN):$(PATH)

# go.mod names the go1.26.10 toolchain (standard-library security fixes). Where the Go
# installation says GOTOOLCHAIN=local, go would build with whatever version is installed;
# auto fetches go1.26.10 from the module proxy once and uses it. An explicit GOTOOLCHAIN in
# the environment wins.
ifeq ($(origin GOTOOLCHAIN),undefined)
export GOTOOLCHAIN := auto
endif

STRIPE_MOCK_VERSION := v0.183.0
# staticcheck 2026.2.2; @latest has resolved to older releases through the proxy here.
STATICCHECK_VERSION := v0.8.2
# sqlc generates campaigns/dbq from campaigns/queries/*.sql (cgo: about a minute to install).
SQLC_VERSION := v1.31.1
SQLC_INSTALL = command -v sqlc >/dev/null || { echo "installing sqlc $(SQLC_VERSION)"; go install github.com/sqlc-dev/sqlc/cmd/sqlc@$(SQLC_VERSION); }
# Mailpit, the real SMTP server the mail tests send to (campaigns/outbox/mailpittest starts
# one per test), built into the tools cache where the tests look for it; keep in step with
# mailpittest.Version. The tests build it themselves when it is missing.
MAILPIT_VERSION := v1.33.1
MAILPIT_DIR = $(TOOLS_CACHE)/mailpit-$(MAILPIT_VERSION)
MAILPIT_INSTALL = test -x "$(MAILPIT_DIR)/mailpit" || { echo "building mailpit $(MAILPIT_VERSION) into $(MAILPIT_DIR)"; GOBIN="$(MAILPIT_DIR)" CGO_ENABLED=0 go install github.com/axllent/mailpit@$(MAILPIT_VERSION); }
# stripe-mock for the tests: .ci/with-stripe-mock reuses or starts one at this address.
export STRIPE_MOCK_URL ?= http://127.0.0.1:12111
# PostgreSQL for the tests: each test gets a database of its own on this server.
export TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@echo "Usage: make <target>"
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.PHONY: run
run: ## run locally on 127.0.0.1:8080 (metrics :9090): private PostgreSQL under .data/, sandbox payments
	go build -o .bin/giving ./cmd/giving
	@# exec: the binary gets Ctrl-C itself, stops gracefully and its status (0) is make's.
	exec .bin/giving dev

.PHONY: build
build: ## build the binary into .bin/giving (a dot folder: the top level holds only the project)
	go build -o .bin/giving ./cmd/giving

.PHONY: tools
tools: ## install the pinned tools (stripe-mock, mailpit, staticcheck, sqlc) when missing
	@$(SQLC_INSTALL)
	@$(MAILPIT_INSTALL)
	@command -v stripe-mock >/dev/null || { echo "installing stripe-mock $(STRIPE_MOCK_VERSION)"; go install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION); }
	@command -v staticcheck >/dev/null || { echo "installing staticcheck"; go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); }

.PHONY: generate
generate: ## regenerate the typed queries in campaigns/dbq from campaigns/queries/*.sql (sqlc)
	@$(SQLC_INSTALL)
	sqlc generate

.PHONY: sqlc-check
sqlc-check: ## fail when campaigns/dbq is stale against campaigns/queries or the migrations (sqlc diff, sqlc vet)
	@$(SQLC_INSTALL)
	@sqlc diff || { echo "campaigns/dbq is stale: run make generate and commit the result"; exit 1; }
	sqlc vet

.PHONY: test
test: sqlc-check ## the generated queries are current; all tests with -race against PostgreSQL (TEST_DATABASE_URL), stripe-mock and Mailpit; 25 s of fuzzing
	@command -v stripe-mock >/dev/null || { echo "installing stripe-mock $(STRIPE_MOCK_VERSION)"; go install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION); }
	@$(MAILPIT_INSTALL)
	.ci/with-stripe-mock go test -race -count=1 -timeout 20m ./...
	go test -run='^$$' -fuzz=FuzzParseAmount -fuzztime=15s ./payments
	go test -run='^$$' -fuzz=FuzzParseEvent -fuzztime=10s ./payments

.PHONY: e2e
e2e: ## only the browser tests: the built binary in headless Chromium, with axe-core, and Lighthouse (see .ci/run)
	go test -tags lighthouse -count=1 -timeout 15m -run '^TestE2E' -v ./cmd/giving

# Lighthouse 12.2.3 (npm, outside the repository, like axe-core) scores /, a fundraiser's page
# and a team's page with the tests' Chromium; below 95 in any category fails. Built only with
# -tags lighthouse, so `make test` does not run it. Needs Node.js 18.16 or later.
.PHONY: lighthouse
lighthouse: ## only the Lighthouse run (part of make e2e): performance, accessibility, best practices and SEO of at least 95
	go test -tags lighthouse -count=1 -timeout 10m -run '^TestE2ELighthouse$$' -v ./cmd/giving

.PHONY: chaos
chaos: ## only the fault runs (also in make test): PostgreSQL restarted, pool exhausted, service killed, two instances
	go test -count=1 -timeout 5m -run 'Fault|PostgresRestart' -v ./cmd/giving

.PHONY: lint
lint: ## gofmt, go vet and staticcheck
	@out=$$(find . -name '*.go' -not -path './node_modules/*' -not -path './.data/*' -print0 | xargs -0 gofmt -l); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	@command -v staticcheck >/dev/null || { echo "installing staticcheck"; go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); }
	staticcheck ./...

# govulncheck with a vulnerability database built here from the golang.org/x/vulndb module
# (its data/osv/*.json, indexed by the module's own cmd/indexdb into the layout that
# -db file:// reads: index/db.json, index/modules.json, index/vulns.json, ID/GO-*.json),
# since the public endpoint vuln.go.dev is not reachable from every machine. Move
# VULNDB_VERSION to a newer pseudo-version (go list -m golang.org/x/vulndb@latest) to update.
GOVULNCHECK_VERSION := v1.10.0
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
TOOLS_CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/giving-tools
VULNDB_DIR := $(TOOLS_CACHE)/vulndb-$(VULNDB_VERSION)

.PHONY: vuln
vuln: ## govulncheck against a local copy of the Go vulnerability database; fails on a vulnerability the code reaches
	@command -v govulncheck >/dev/null || { echo "installing govulncheck $(GOVULNCHECK_VERSION)"; go install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION); }
	@if [ ! -f "$(VULNDB_DIR)/index/db.json" ]; then \
	  set -e; \
	  echo "building the vulnerability database golang.org/x/vulndb@$(VULNDB_VERSION) into $(VULNDB_DIR)"; \
	  src=$$(go mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	  test -d "$$src/data/osv" || { echo "golang.org/x/vulndb@$(VULNDB_VERSION) has no data/osv"; exit 1; }; \
	  GOBIN="$(TOOLS_CACHE)/bin" go install golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION); \
	  rm -rf "$(VULNDB_DIR).tmp"; \
	  "$(TOOLS_CACHE)/bin/indexdb" -vulns "$$src/data/osv" -out "$(VULNDB_DIR).tmp"; \
	  mv "$(VULNDB_DIR).tmp" "$(VULNDB_DIR)"; \
	fi
	govulncheck -db file://$(VULNDB_DIR) ./...

.PHONY: bench
bench: ## Go benchmarks (incl. the dashboard at 1,000,000 gifts), then the service benchmark table (loopback, bounded)
	go test -run='^$$' -bench=. -benchmem -count=1 -timeout 20m ./...
	go run ./cmd/givingbench

.PHONY: clean
clean: ## remove the build output (keeps .data/, your local database)
	rm -rf .bin
