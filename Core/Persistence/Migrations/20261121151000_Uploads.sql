CREATE TABLE "Uploads" (
    "Id" uuid NOT NULL,
    "ArtifactId" uuid NOT NULL,
    "Path" character varying(1024) COLLATE "C" NOT NULL,
    "ObjectKey" character varying(200) NOT NULL,
    "StoreUploadId" character varying(1024) NOT NULL,
    "Size" bigint NOT NULL,
    "PartSize" integer NOT NULL,
    "Sha256" character varying(64),
    "CreatedByUserId" uuid NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    "ExpiresAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_Uploads" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_Uploads_Artifacts_ArtifactId" FOREIGN KEY ("ArtifactId") REFERENCES "Artifacts" ("Id") ON DELETE CASCADE
);

CREATE TABLE "UploadParts" (
    "UploadId" uuid NOT NULL,
    "Number" integer NOT NULL,
    "Size" bigint NOT NULL,
    "ETag" character varying(200) NOT NULL,
    CONSTRAINT "PK_UploadParts" PRIMARY KEY ("UploadId", "Number"),
    CONSTRAINT "FK_UploadParts_Uploads_UploadId" FOREIGN KEY ("UploadId") REFERENCES "Uploads" ("Id") ON DELETE CASCADE
);

CREATE INDEX "IX_Uploads_ArtifactId" ON "Uploads" ("ArtifactId");

CREATE INDEX "IX_Uploads_ExpiresAt" ON "Uploads" ("ExpiresAt");
