package reports

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/donors"
)

// ExportConsentedContacts writes the trustees' list of donors who may be contacted on
// channel (email, post or phone) about the charity's work: those whose latest answer is
// yes (campaigns/donors/consent.go), never one who withdrew since, nor one whose data was
// erased. One row per donor: name, email, the postal address or phone number she gave for
// post or phone, when and how she agreed, and the words she agreed to. The CSV is the one
// every export writes (campaigns.NewCSVWriter: opens in a spreadsheet, formulas defused).
// It is read in one snapshot and audited in the same transaction, before a byte is written.
func ExportConsentedContacts(ctx context.Context, s *campaigns.Store, by accounts.User, w io.Writer, channel string) error {
	if !slices.Contains(donors.Channels, channel) {
		return fmt.Errorf("consented contacts %q: %w", channel, campaigns.ErrNotFound)
	}
	var list []donors.ConsentedContact
	err := pgx.BeginTxFunc(ctx, s.Pool(), pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		var err error
		if list, err = donors.ConsentedContacts(ctx, tx, channel); err != nil {
			return err
		}
		return audit.Write(ctx, tx, by, "consented contacts export", fmt.Sprintf("%s: %d donors", channel, len(list)))
	})
	if err != nil {
		return fmt.Errorf("export consented contacts: %w", err)
	}
	contact := map[string]string{donors.ChannelEmail: "Email address (as for email)", donors.ChannelPost: "Postal address",
		donors.ChannelPhone: "Phone number"}[channel]
	c := campaigns.NewCSVWriter(w)
	c.Header("Name", "Email", contact, "Agreed on", "How we asked", "Wording version", "Wording agreed to")
	for _, p := range list {
		how := "Ticked an unticked box"
		if p.Mode == donors.ModeSoftOptIn {
			how = "Soft opt-in: did not tick the opt-out box"
		}
		detail := p.Contact
		if channel == donors.ChannelEmail {
			detail = p.Email
		}
		c.Row(campaigns.CSVText(p.Name), campaigns.CSVText(p.Email), campaigns.CSVText(detail),
			campaigns.CSVText(p.AnsweredAt.In(campaigns.London()).Format("02/01/2006 15:04")),
			campaigns.CSVText(how), campaigns.CSVText(p.WordingVersion), campaigns.CSVText(p.Wording))
	}
	return c.Flush()
}
