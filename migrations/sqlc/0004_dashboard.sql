-- What sqlc reads in place of migration 0004, whose view its parser cannot read (the view
-- names its columns in LATERAL VALUES lists). It is never applied: the table is 0004's own
-- and the view has the same columns, of the same types, as 0004's ledger_summary_source,
-- which migrations/sqlc_test.go checks against a migrated database.
CREATE TABLE ledger_summary (
    appeal_id     bigint NOT NULL REFERENCES appeals (id),
    grain         text NOT NULL CHECK (grain IN ('day', 'month')),
    starts        date NOT NULL,
    dim           text NOT NULL CHECK (dim IN ('tier', 'fundraiser')),
    dim_id        bigint NOT NULL,
    frequency     text NOT NULL CHECK (frequency IN ('one_off', 'monthly')),
    kind          text NOT NULL,
    shard         smallint NOT NULL CHECK (shard >= 0 AND shard < 8),
    amount        numeric(14,2) NOT NULL DEFAULT 0,
    fee           numeric(14,2) NOT NULL DEFAULT 0,
    gift_aid_base numeric(14,2) NOT NULL DEFAULT 0,
    claimed       numeric(14,2) NOT NULL DEFAULT 0,
    entries       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (appeal_id, grain, starts, dim, dim_id, frequency, kind, shard)
);

CREATE VIEW ledger_summary_source AS
SELECT e.id AS entry_id, e.appeal_id, ''::text AS grain, CURRENT_DATE AS starts, ''::text AS dim, 0::bigint AS dim_id,
       e.frequency, e.kind, 0::smallint AS shard, e.amount, e.fee, e.gift_aid_base, e.amount::numeric AS claimed
FROM ledger_entries e;
