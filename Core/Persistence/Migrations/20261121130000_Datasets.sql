ALTER TABLE "Accounts" ADD "StorageQuotaBytes" bigint;

CREATE TABLE "Artifacts" (
    "Id" uuid NOT NULL,
    "AccountId" uuid NOT NULL,
    "Kind" character varying(16) NOT NULL,
    "Name" character varying(100) NOT NULL,
    "Description" character varying(4000) NOT NULL,
    "License" character varying(100),
    "Tags" text[] NOT NULL,
    "CreatedByUserId" uuid NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    "UpdatedAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_Artifacts" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_Artifacts_Accounts_AccountId" FOREIGN KEY ("AccountId") REFERENCES "Accounts" ("Id") ON DELETE CASCADE
);

CREATE TABLE "ArtifactVersions" (
    "Id" uuid NOT NULL,
    "ArtifactId" uuid NOT NULL,
    "Number" integer,
    "CreatedAt" timestamp with time zone NOT NULL,
    "PublishedAt" timestamp with time zone,
    "PublishedByUserId" uuid,
    "FileCount" integer NOT NULL,
    "TotalBytes" bigint NOT NULL,
    "ManifestSha256" character varying(64),
    CONSTRAINT "PK_ArtifactVersions" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_ArtifactVersions_Artifacts_ArtifactId" FOREIGN KEY ("ArtifactId") REFERENCES "Artifacts" ("Id") ON DELETE CASCADE
);

CREATE TABLE "ArtifactFiles" (
    "VersionId" uuid NOT NULL,
    "Path" character varying(1024) COLLATE "C" NOT NULL,
    "Size" bigint NOT NULL,
    "Sha256" character varying(64) NOT NULL,
    "ObjectKey" character varying(200) NOT NULL,
    "AddedAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_ArtifactFiles" PRIMARY KEY ("VersionId", "Path"),
    CONSTRAINT "FK_ArtifactFiles_ArtifactVersions_VersionId" FOREIGN KEY ("VersionId") REFERENCES "ArtifactVersions" ("Id") ON DELETE CASCADE
);

CREATE INDEX "IX_ArtifactFiles_ObjectKey" ON "ArtifactFiles" ("ObjectKey");

CREATE UNIQUE INDEX "IX_Artifacts_AccountId_Kind_Name" ON "Artifacts" ("AccountId", "Kind", "Name");

CREATE UNIQUE INDEX "IX_ArtifactVersions_ArtifactId_Number" ON "ArtifactVersions" ("ArtifactId", "Number");

CREATE UNIQUE INDEX "IX_ArtifactVersions_Draft" ON "ArtifactVersions" ("ArtifactId") WHERE "Number" IS NULL;
