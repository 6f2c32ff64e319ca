package campaigns_test

import (
	"sync"
	"time"
)

// testClock is a clock the test moves by hand (Store.WithClock(c.Now)), so a test of a
// lease or a deadline sets the time instead of sleeping through it.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock(start time.Time) *testClock { return &testClock{now: start} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
