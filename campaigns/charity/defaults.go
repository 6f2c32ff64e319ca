package charity

import (
	"fmt"
	"strings"

	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
	"giving/campaigns/outbox"
)

// DefaultText is the text page shows until an admin writes her own: plain text, a
// paragraph per run of lines between blank lines, a line starting "## " a heading. The
// retention periods are the ones the code keeps (Gift Aid declarations: giftaid; sent
// mail: outbox; manage links: donations).
func DefaultText(page string, c donations.Charity) string {
	switch page {
	case PagePrivacy:
		return privacyText(c)
	case PageContact:
		return contactText(c)
	case PageComplaints:
		return complaintsText(c)
	}
	return ""
}

func who(c donations.Charity) string {
	return fmt.Sprintf("%s, registered charity number %s, %s", c.Name, c.Number, c.Address)
}

func privacyText(c donations.Charity) string {
	mailDays := int(outbox.SentRetention.Hours() / 24)
	manageDays := int(donations.ManageLinkLifetime.Hours() / 24)
	return strings.TrimSpace(fmt.Sprintf(`
This notice explains what we collect when you give or fundraise on this site, why, how long we keep it, and your rights. It is written by %[1]s.

## Who we are
%[2]s. We decide how your details are used (we are the "controller"). You can write to us at %[3]s or email %[4]s about anything in this notice.

## What we collect
When you give: the amount, whether it is once or monthly, and which appeal or fundraising page it is for; the email address and the name on the card you type on Stripe's secure payment page; and, if you choose, a name to show with your gift, a message, and whether to hide your name or the amount. We never see or keep your card details: Stripe handles them.

If you add Gift Aid: your title, first name, last name, house name or number and postcode, which gifts your declaration covers, the exact words you agreed to and the date.

If you answer the questions about hearing from us: your answer for email, post and phone, the exact words you were shown, when you answered, and the postal address or phone number you gave us for post or calls. Every email we send you has a link to stop.

If you fundraise: your name, email address, a protected (hashed) password, your pages, their photos and the offline money you record.

When you use the site: your internet address, to stop misuse (for example too many attempts to log in or to pay), and small cookies: one that lets the thank-you page show your gift to your browser only (25 hours), and for fundraisers and trustees a log-in session and a device cookie that protects your account.

## Why we use it
- To take your gift, record it in our accounts and send your receipts and the emails about a monthly gift (to carry out what you asked us to do, and because charity law requires us to keep accounts).
- To claim Gift Aid from HMRC when you ask us to (HMRC requires us to keep your declaration).
- To keep in touch about our work only as you chose on the donate form; you can change your mind at any time.
- To keep the site and your account safe (our legitimate interest in preventing fraud and misuse).

We share details only as needed: with Stripe, who processes payments; with HMRC, your name, house name or number, postcode and gift amounts for a Gift Aid claim; and with the service that delivers our emails. We never sell or swap your details. A fundraiser whose page you gave on sees your gift with the privacy choices you made, never your email or address.

## How long we keep it
- Gift Aid declarations: until %[7]d years after the end of the tax year (5 April) of the last gift the declaration covers, as HMRC requires. If you ask us to erase your details before then, we keep only the declaration until that date, then erase it.
- Your gifts: the amount, date and payment references stay in our accounts. Your email address, name, message and contact details are erased when you ask.
- Emails we send you: deleted from our system %[5]d days after they are sent.
- Links to manage a monthly gift: work for %[6]d days.
- Your answers about hearing from us: kept with your details, as the record of what you agreed and when you changed your mind.

## Your rights
You have the right to ask for a copy of the details we hold about you, to have them corrected, to have them erased, to object to or restrict how we use them, and to have them in a form you can take elsewhere. You can stop all marketing at any time: use the link at the foot of any email from us, or tell us.

To use any of these rights, email %[4]s or write to %[3]s. We will answer within one month.

If you are unhappy with how we have used your details, please tell us first (see our complaints page). You can also complain to the Information Commissioner's Office: ico.org.uk, or 0303 123 1113.
`, c.Name, who(c), c.Address, c.Email, mailDays, manageDays, giftaid.GiftAidRetentionYears))
}

func contactText(c donations.Charity) string {
	return strings.TrimSpace(fmt.Sprintf(`
We would love to hear from you, whether you have a question about a gift, Gift Aid, fundraising or our work.

## Email
%[1]s. We aim to reply within five working days.

## Post
%[2]s, %[3]s.

## Your monthly gift
You can change the amount, pause it, update your card or cancel it yourself: choose "Manage my monthly gift" at the foot of any page, and we will email you a link.

## Gift Aid
Tell us if you want to cancel your Gift Aid declaration, if you change your name or home address, or if you no longer pay enough Income Tax or Capital Gains Tax.

## Hearing from us
Every email we send has a link at the foot to stop emails about our work. You can also email us and we will stop.
`, c.Email, c.Name, c.Address))
}

func complaintsText(c donations.Charity) string {
	return strings.TrimSpace(fmt.Sprintf(`
We want every supporter to be treated with care and respect. If something has gone wrong, please tell us: we will listen, put it right where we can, and learn from it.

## How to complain
Email %[1]s or write to %[2]s, %[3]s. Tell us what happened, when, and what you would like us to do. If it is about a gift, the date and amount help us find it.

## What happens next
We will acknowledge your complaint within five working days and give you a full answer within 20 working days. If we need longer, we will tell you why and when to expect it. A trustee reviews any complaint you are not satisfied with.

## If you are still unhappy
- About our fundraising: the Fundraising Regulator, fundraisingregulator.org.uk, or 0300 999 3407.
- About how we use your personal details: the Information Commissioner's Office, ico.org.uk, or 0303 123 1113.
- About serious concerns in how the charity is run: the Charity Commission, gov.uk/complain-about-charity.

%[2]s is registered with the Charity Commission for England and Wales, number %[4]s.
`, c.Email, c.Name, c.Address, c.Number))
}

// Block is one piece of a page's text: a heading, a paragraph, or a list.
type Block struct {
	Heading   string
	Paragraph string
	Items     []string
}

// Blocks splits text into headings ("## "), lists (lines starting "- ") and paragraphs,
// for the template to escape and lay out.
func Blocks(text string) []Block {
	var out []Block
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		lines := strings.Split(strings.TrimSpace(para), "\n")
		var prose []string
		flush := func() {
			if len(prose) > 0 {
				out = append(out, Block{Paragraph: strings.Join(prose, " ")})
				prose = nil
			}
		}
		for _, l := range lines {
			l = strings.TrimSpace(l)
			switch {
			case l == "":
			case strings.HasPrefix(l, "## "):
				flush()
				out = append(out, Block{Heading: strings.TrimSpace(l[3:])})
			case strings.HasPrefix(l, "- "):
				flush()
				if n := len(out); n > 0 && out[n-1].Items != nil {
					out[n-1].Items = append(out[n-1].Items, strings.TrimSpace(l[2:]))
				} else {
					out = append(out, Block{Items: []string{strings.TrimSpace(l[2:])}})
				}
			default:
				prose = append(prose, l)
			}
		}
		flush()
	}
	return out
}
