-- The job list's other keyset orders: one owner's jobs newest first (without a state filter), and by name.
CREATE INDEX "IX_Jobs_OwnerUserId_SubmittedAt_Id" ON "Jobs" ("OwnerUserId", "SubmittedAt" DESC, "Id" DESC);
CREATE INDEX "IX_Jobs_OwnerUserId_Name_Id" ON "Jobs" ("OwnerUserId", "Name", "Id");
CREATE INDEX "IX_Jobs_AccountId_Name_Id" ON "Jobs" ("AccountId", "Name", "Id");
