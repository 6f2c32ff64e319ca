-- Fundraiser pages that end, that remember someone, that run as a team, and that post
-- updates (campaigns/pages: lifecycle.go, teams.go, updates.go). Each lives in a table of
-- its own beside fundraisers, so reading a page is unchanged.

-- A page's lifecycle. ends_on is the last day (London) the page takes gifts; after it the
-- page shows its total as completed. in_memory_of names the person a memorial page
-- remembers: such a page has no end date.
CREATE TABLE page_lifecycle (
    fundraiser_id bigint PRIMARY KEY REFERENCES fundraisers (id),
    ends_on       date,
    in_memory_of  text NOT NULL DEFAULT '' CHECK (length(in_memory_of) <= 80),
    updated_at    timestamptz NOT NULL,
    CHECK (ends_on IS NULL OR in_memory_of = '')
);

-- A team: a captain (a fundraiser) and the pages that joined it. Its total is the sum of
-- its member pages' ledger totals; a page belongs to at most one team (the primary key of
-- team_members), so no gift is counted twice.
CREATE TABLE teams (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    appeal_id  bigint NOT NULL REFERENCES appeals (id),
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    target     numeric(12,2) NOT NULL CHECK (target > 0),
    captain_id bigint NOT NULL REFERENCES users (id),
    -- The secret in the join link the captain shares; whoever has it may add her page.
    join_code  text NOT NULL UNIQUE CHECK (length(join_code) >= 20),
    created_at timestamptz NOT NULL
);
CREATE INDEX teams_captain ON teams (captain_id);

CREATE TABLE team_members (
    fundraiser_id bigint PRIMARY KEY REFERENCES fundraisers (id),
    team_id       bigint NOT NULL REFERENCES teams (id),
    joined_at     timestamptz NOT NULL
);
CREATE INDEX team_members_team ON team_members (team_id, joined_at);

-- Short posts a fundraiser writes on her page, shown newest first. A deleted one is kept
-- (deleted_at set) for the audit trail's sake and leaves the page.
CREATE TABLE page_updates (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fundraiser_id bigint NOT NULL REFERENCES fundraisers (id),
    author_id     bigint NOT NULL REFERENCES users (id),
    body          text NOT NULL CHECK (length(body) BETWEEN 1 AND 1000),
    posted_at     timestamptz NOT NULL,
    deleted_at    timestamptz
);
CREATE INDEX page_updates_page ON page_updates (fundraiser_id, posted_at DESC) WHERE deleted_at IS NULL;
