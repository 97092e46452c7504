-- Audit chains per writer (issue 9, item 4). One chain per organization made every append read
-- the newest row and insert seq+1, so concurrent processes collided on (chain_key, seq) and rows
-- were lost; nothing anchored a chain's end, so deleting the newest rows went unnoticed.
-- Now each runtime (writer) appends to its own chain per organization, a batch of rows at a
-- time, and moves that chain's head row in the same transaction; each batch records the heads of
-- the organization's other chains (witness) inside its hashed payload.

-- AlterTable
ALTER TABLE "audit_events" ADD COLUMN     "witness" JSONB,
ADD COLUMN     "writer" TEXT;

-- CreateTable
CREATE TABLE "audit_chain_heads" (
    "chain_key" TEXT NOT NULL,
    "organization_id" UUID,
    "writer" TEXT,
    "seq" INTEGER NOT NULL,
    "hash" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_chain_heads_pkey" PRIMARY KEY ("chain_key")
);

-- CreateIndex
CREATE INDEX "audit_chain_heads_organization_id_updated_at_idx" ON "audit_chain_heads"("organization_id", "updated_at");

-- The chains written before this migration (chain_key = organization id, or '' without one) get
-- their head now, so their end is anchored from here on and they keep verifying.
INSERT INTO "audit_chain_heads" ("chain_key", "organization_id", "writer", "seq", "hash", "updated_at")
SELECT DISTINCT ON ("chain_key") "chain_key", "organization_id", NULL, "seq", "hash", CURRENT_TIMESTAMP
  FROM "audit_events"
 ORDER BY "chain_key", "seq" DESC;
