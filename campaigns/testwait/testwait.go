// Package testwait is the one polling loop the tests share: wait, within a bounded and
// generous deadline, for something another goroutine or process does.
package testwait

import (
	"testing"
	"time"
)

// Within bounds every wait: generous, since no test may depend on timing. A wait that
// runs out means what was awaited did not happen.
const Within = time.Minute

// Eventually polls cond until it holds, failing the test (naming what did not happen) once
// Within has passed. cond runs on the test's goroutine, so it may call t.Fatal itself.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so after %s", what, Within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
