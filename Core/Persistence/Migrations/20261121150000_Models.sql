ALTER TABLE "Artifacts" ADD "Framework" text;
ALTER TABLE "Artifacts" ADD "Format" text;
ALTER TABLE "Artifacts" ADD "InputSchema" jsonb;
ALTER TABLE "Artifacts" ADD "OutputSchema" jsonb;
ALTER TABLE "Artifacts" ADD "Metrics" jsonb;
ALTER TABLE "Artifacts" ADD "SourceJobId" uuid;

CREATE TABLE "ArtifactAliases" (
    "ArtifactId" uuid NOT NULL,
    "Alias" character varying(50) NOT NULL,
    "VersionId" uuid NOT NULL,
    "SetByUserId" uuid NOT NULL,
    "SetAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_ArtifactAliases" PRIMARY KEY ("ArtifactId", "Alias"),
    CONSTRAINT "FK_ArtifactAliases_ArtifactVersions_VersionId" FOREIGN KEY ("VersionId") REFERENCES "ArtifactVersions" ("Id"),
    CONSTRAINT "FK_ArtifactAliases_Artifacts_ArtifactId" FOREIGN KEY ("ArtifactId") REFERENCES "Artifacts" ("Id") ON DELETE CASCADE
);

CREATE INDEX "IX_ArtifactAliases_VersionId" ON "ArtifactAliases" ("VersionId");
