package donations

import (
	"fmt"
	"strings"

	"giving/campaigns"
	"giving/campaigns/outbox"
)

// The emails about managing a monthly gift, in the charity's voice. Only a cancellation
// says goodbye; every other change is confirmed as what it is.

type giftLink struct {
	gift ManagedGift
	link string
}

func describeGift(g ManagedGift) string {
	s := pounds(g.Amount) + " a month to " + g.Appeal
	if g.Fundraiser != "" {
		s += " (through " + g.Fundraiser + "'s page)"
	}
	return s + ", given since " + UKDate(g.Since)
}

func linksMail(to string, links []giftLink) outbox.Mail {
	var b strings.Builder
	b.WriteString("Hello,\n\nYou asked for a link to manage your monthly gift to " + campaigns.CharityName + ".\n")
	if len(links) > 1 {
		fmt.Fprintf(&b, "You give %d monthly gifts from this address; each has its own link.\n", len(links))
	}
	for _, l := range links {
		b.WriteString("\n" + describeGift(l.gift) + ":\n" + l.link + "\n")
	}
	b.WriteString(`
From the link you can change the amount, pause payments for up to three months, update
your card, or cancel. It works for the next 45 days; you need no account or password.
Please do not forward this email: anyone with the link can change the gift.

If you did not ask for this, you can ignore this email: nothing has changed.

With thanks,
` + campaigns.CharityName + "\n")
	return outbox.Mail{To: to, Subject: "Your link to manage your monthly gift", Body: b.String()}
}

// changeMail confirms one change Stripe has made. link (a fresh manage link) is empty for
// a cancellation, which ends every link.
func changeMail(d Donation, c Change, link, site string) outbox.Mail {
	var subject, body string
	switch c.Kind {
	case ChangeCancel:
		subject = "Your monthly gift is cancelled"
		by := "as you asked"
		if c.Actor == ActorAdmin {
			by = "as you asked us to"
		}
		body = "Your monthly gift of " + pounds(d.Total()) + " to " + campaigns.CharityName + " is cancelled, " + by + `.
No further payments will be taken; nothing already given is affected.

Thank you for every month you gave: it kept survivors safe. If you ever want to give
again, you are always welcome at ` + site + `/

If you did not ask for this, please reply to this email at once.`
	case ChangePause:
		subject = "Your monthly gift is paused until " + londonDate(c.ResumesAt)
		body = "Your monthly gift of " + pounds(d.Total()) + " is paused, as you asked: no payment will be taken\nuntil " +
			londonDate(c.ResumesAt) + `, when it restarts by itself at the same amount.

To restart it sooner, change it, or cancel it, use your manage link:
` + link
	case ChangeResume:
		subject = "Your monthly gift has restarted"
		body = "Your monthly gift of " + pounds(d.Total()) + " has restarted, as you asked. Payments carry on each month\nfrom your next payment date.\n\nTo change it later, use your manage link:\n" + link
	case ChangeAmount:
		subject = "Your monthly gift is now " + pounds(c.NewAmount)
		body = "Your monthly gift is now " + pounds(c.NewAmount) + " a month (it was " + pounds(c.OldAmount) + `), as you asked.
Your next payment will be the new amount; nothing already paid changes.

To change it again, pause it, or cancel it, use your manage link:
` + link
	case ChangeCard:
		subject = "Your card for your monthly gift is updated"
		body = "The card for your monthly gift of " + pounds(d.Total()) + " is updated, as you asked. Your next payment\nwill be taken from the new card.\n\nTo change anything else, use your manage link:\n" + link
	}
	if c.Kind != ChangeCancel {
		body += "\n\nIf you did not make this change, please reply to this email and we will put it right."
	}
	return outbox.Mail{To: d.Email, Subject: subject, Body: "Hello,\n\n" + body + "\n\nWith thanks,\n" + campaigns.CharityName + "\n"}
}
