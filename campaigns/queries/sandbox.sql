-- The sandbox's pretend Stripe (payments/sandbox.go).

-- name: SandboxFundraiserSlug :one
SELECT slug FROM fundraisers WHERE id = @id;
