package pages

import (
	"context"
	"errors"
	"fmt"
	_ "image/jpeg" // registers JPEG with image.DecodeConfig
	_ "image/png"  // registers PNG with image.DecodeConfig
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	_ "golang.org/x/image/webp" // registers WebP with image.DecodeConfig

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
	"giving/campaigns/donations"
	"giving/campaigns/outbox"
)

// ThankGift queues the fundraiser's thank-you note to the donor of a gift to one of her
// pages. She writes the note but never sees the address: the outbox has it, she does not.
// Each gift is thanked at most once (a second attempt is a conflict, and sends nothing).
func ThankGift(ctx context.Context, s *campaigns.Store, by accounts.User, donationID, message string) error {
	if err := mayRunPages(by); err != nil {
		return err
	}
	message = strings.TrimSpace(strings.ReplaceAll(message, "\r\n", "\n"))
	if n := utf8.RuneCountInString(message); n == 0 || n > maxThanksLen || !utf8.ValidString(message) {
		return &campaigns.ValidationError{Fields: map[string]string{"message": "Write a thank-you note of up to 2,000 characters."}}
	}
	return s.InTx(ctx, func(tx pgx.Tx) error {
		gift, err := dbq.New(tx).GiftToThank(ctx, dbq.GiftToThankParams{DonationID: donations.UUIDOrNil(donationID), OwnerID: by.ID})
		email, title, pageID := gift.Email, gift.Title, gift.PageID
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("gift %s: %w", donationID, campaigns.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("find gift to thank: %w", err)
		}
		if strings.TrimSpace(email) == "" {
			return &campaigns.ValidationError{Fields: map[string]string{"message": "We have no way to reach this donor, so the note cannot be sent."}}
		}
		n, err := dbq.New(tx).RecordThanks(ctx, dbq.RecordThanksParams{DonationID: donationID, FundraiserID: pageID, ThankedBy: by.ID})
		if err != nil {
			return fmt.Errorf("record thanks: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("gift %s is already thanked: %w", donationID, campaigns.ErrConflict)
		}
		body := message + "\n\n--\nThis note is from the fundraiser behind the page \"" + title + "\", for your gift to " +
			campaigns.CharityName + ". We passed it on for them: they have not seen your email address.\n"
		if err := outbox.QueueMail(ctx, tx, outbox.Mail{To: email, Subject: "Thank you for your gift to " + title, Body: body}); err != nil {
			return err
		}
		return audit.Write(ctx, tx, by, "gift thanked", fmt.Sprintf("donation %s on fundraiser %d", donationID, pageID))
	})
}
