ALTER TABLE "Artifacts" ADD "IsPublic" boolean NOT NULL DEFAULT false;
