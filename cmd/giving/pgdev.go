package main

import (
	"context"
	"errors"
	"io"
)

// Temporary until the private-cluster code lands.
func startPrivatePostgres(ctx context.Context, dataDir string, log io.Writer) (string, func() error, error) {
	return "", nil, errors.New("private PostgreSQL not available yet")
}
