-- Rule segments keep their members in segment_members, like static lists (issue 3): the rules are
-- evaluated when the stored membership is older than the caller allows, and each evaluation adds
-- the contacts that now match and marks removed the ones that no longer do.
ALTER TABLE "segments" ADD COLUMN "members_evaluated_at" TIMESTAMPTZ(3);
