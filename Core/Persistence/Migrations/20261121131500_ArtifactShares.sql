CREATE TABLE "ArtifactShares" (
    "Id" uuid NOT NULL,
    "ArtifactId" uuid NOT NULL,
    "GranteeUserId" uuid,
    "GranteeAccountId" uuid,
    "Access" character varying(16) NOT NULL,
    "CreatedByUserId" uuid NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_ArtifactShares" PRIMARY KEY ("Id"),
    CONSTRAINT "CK_ArtifactShares_OneGrantee" CHECK (("GranteeUserId" IS NULL) <> ("GranteeAccountId" IS NULL)),
    CONSTRAINT "FK_ArtifactShares_Accounts_GranteeAccountId" FOREIGN KEY ("GranteeAccountId") REFERENCES "Accounts" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_ArtifactShares_Artifacts_ArtifactId" FOREIGN KEY ("ArtifactId") REFERENCES "Artifacts" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_ArtifactShares_AspNetUsers_GranteeUserId" FOREIGN KEY ("GranteeUserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);

CREATE UNIQUE INDEX "IX_ArtifactShares_ArtifactId_GranteeAccountId" ON "ArtifactShares" ("ArtifactId", "GranteeAccountId") WHERE "GranteeAccountId" IS NOT NULL;

CREATE UNIQUE INDEX "IX_ArtifactShares_ArtifactId_GranteeUserId" ON "ArtifactShares" ("ArtifactId", "GranteeUserId") WHERE "GranteeUserId" IS NOT NULL;

CREATE INDEX "IX_ArtifactShares_GranteeAccountId" ON "ArtifactShares" ("GranteeAccountId");

CREATE INDEX "IX_ArtifactShares_GranteeUserId" ON "ArtifactShares" ("GranteeUserId");
