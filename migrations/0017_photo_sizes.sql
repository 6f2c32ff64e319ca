-- A page photo is stored as copies at the widths pages show it (photo.go), never as the
-- upload itself: fundraiser_photos holds the widest copy (the one /f/{slug}/photo serves,
-- as before), this table the narrower ones a browser picks from the srcset. Photos stored
-- before this migration have no narrower copies and are served as they are.
CREATE TABLE fundraiser_photo_sizes (
    fundraiser_id bigint NOT NULL REFERENCES fundraiser_photos (fundraiser_id) ON DELETE CASCADE,
    width         integer NOT NULL CHECK (width > 0),
    height        integer NOT NULL CHECK (height > 0),
    content_type  text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    data          bytea NOT NULL CHECK (octet_length(data) BETWEEN 1 AND 5242880),
    sha256        text NOT NULL, -- the ETag
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (fundraiser_id, width)
);

-- The admin page lists an appeal's pages 50 at a time, pending first, newest first.
CREATE INDEX fundraisers_admin_list ON fundraisers (appeal_id, (status = 'pending') DESC, created_at DESC, id DESC);
