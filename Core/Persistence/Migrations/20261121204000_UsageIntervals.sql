CREATE TABLE "UsageIntervals" (
    "WorkloadKind" character varying(16) NOT NULL,
    "WorkloadId" uuid NOT NULL,
    "StartedAt" timestamp with time zone NOT NULL,
    "EndedAt" timestamp with time zone,
    "AccountId" uuid NOT NULL,
    "UserId" uuid NOT NULL,
    "Cpus" double precision NOT NULL,
    "Gpus" integer NOT NULL,
    "MemoryMiB" bigint NOT NULL,
    CONSTRAINT "PK_UsageIntervals" PRIMARY KEY ("WorkloadKind", "WorkloadId", "StartedAt")
);

CREATE INDEX "IX_UsageIntervals_Open" ON "UsageIntervals" ("EndedAt") WHERE "EndedAt" IS NULL;
