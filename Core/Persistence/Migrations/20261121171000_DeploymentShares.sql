CREATE TABLE "DeploymentShares" (
    "DeploymentId" uuid NOT NULL,
    "UserId" uuid NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_DeploymentShares" PRIMARY KEY ("DeploymentId", "UserId"),
    CONSTRAINT "FK_DeploymentShares_Deployments_DeploymentId" FOREIGN KEY ("DeploymentId") REFERENCES "Deployments" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_DeploymentShares_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);

CREATE INDEX "IX_DeploymentShares_UserId" ON "DeploymentShares" ("UserId");
