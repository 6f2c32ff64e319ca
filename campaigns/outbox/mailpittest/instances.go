package mailpittest

import (
	"context"
	"testing"

	"github.com/riverqueue/river"

	"giving/campaigns"
	"giving/campaigns/outbox"
	"giving/campaigns/testwait"
)

// SendWithInstances starts n River clients working the outbox of s with sender, as n
// instances of the service would, and waits until no message of the outbox (at most 500)
// is left unsent. The clients stop when the test ends.
func SendWithInstances(t testing.TB, s *campaigns.Store, n int, sender outbox.MailSender) {
	t.Helper()
	ctx := context.Background()
	for range n {
		workers := river.NewWorkers()
		river.AddWorker(workers, &outbox.MailWorker{Store: s, Sender: sender})
		c, err := s.NewJobClient(s.Pool(), nil, workers)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Stop(context.WithoutCancel(ctx)) })
	}
	testwait.Eventually(t, "every message sent", func() bool {
		mails, err := outbox.Outbox(ctx, s, 500)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mails {
			if m.Status != "sent" {
				return false
			}
		}
		return true
	})
}
