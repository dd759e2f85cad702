-- Where each replica's log shipping stands (LOGS, issue 5): Shipping, Truncated (capped), Complete (ended, all shipped).
-- Existing replicas of ended jobs are marked Complete so the shipper does not revisit them.
ALTER TABLE "JobReplicas" ADD COLUMN "LogState" character varying(16) NOT NULL DEFAULT 'Shipping';
UPDATE "JobReplicas" r SET "LogState" = 'Complete'
  FROM "Jobs" j WHERE j."Id" = r."JobId" AND j."Observed" IN ('Succeeded', 'Failed', 'Stopped');
CREATE INDEX "IX_JobReplicas_LogState" ON "JobReplicas" ("LogState") WHERE "LogState" <> 'Complete';
