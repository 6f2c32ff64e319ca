-- A supporter's message hidden from the public walls (the appeal's recent supporters and a
-- fundraiser page's) by a trustee, an admin or the page's owner. The message itself is kept:
-- trustees' exports still carry it, and it can be shown again (both columns back to NULL).
ALTER TABLE donations
    ADD COLUMN message_hidden_at timestamptz,
    ADD COLUMN message_hidden_by bigint REFERENCES users(id);
