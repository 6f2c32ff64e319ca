-- The browser that started a donation (campaigns/donations/giver.go).

-- The first submission binds the donation; a double submission of the same form finds it bound.
-- name: BindGiver :exec
UPDATE donations SET giver_hash = @giver_hash WHERE id = @id AND giver_hash IS NULL;

-- name: GiverHash :one
SELECT giver_hash FROM donations WHERE id = @id;
