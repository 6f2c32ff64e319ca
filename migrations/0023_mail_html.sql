-- Every email has an HTML part beside its plain text: the caller's, or one outbox renders
-- from the text (outbox.RenderHTML) when the message is queued. Rows queued before this
-- migration have '' and the sender renders theirs from the text. Blanked with the body once
-- sent over SMTP, so reset links do not linger here.
ALTER TABLE mail_outbox ADD COLUMN html text NOT NULL DEFAULT '';
