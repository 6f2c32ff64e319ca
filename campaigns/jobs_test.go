package campaigns_test

import (
	"testing"
	"time"

	"giving/campaigns"
)

// Every queue waits the same way: First after the first failure, doubling, capped at Max.
func TestBackoffDoublesUpToItsCap(t *testing.T) {
	t.Parallel()
	b := campaigns.Backoff{First: time.Second, Max: 5 * time.Second}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 5 * time.Second, 40: 5 * time.Second} {
		if got := b.Delay(attempt); got != want {
			t.Errorf("try %d: wait %s, want %s", attempt, got, want)
		}
	}
	// River's jobs: 30 s, then 1 min, ... never more than an hour.
	if got := campaigns.RetryBackoff(1); got != 30*time.Second {
		t.Errorf("first job retry after %s", got)
	}
	if got := campaigns.RetryBackoff(3); got != 2*time.Minute {
		t.Errorf("third job retry after %s", got)
	}
	if got := campaigns.RetryBackoff(60); got != time.Hour {
		t.Errorf("sixtieth job retry after %s", got)
	}
}
