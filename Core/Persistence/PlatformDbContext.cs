using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Platform.Core.AccessKeys;
using Platform.Core.Accounts;
using Platform.Core.Admin;
using Platform.Core.Datasets;
using Platform.Core.Deployments;
using Platform.Core.Mail;

namespace Platform.Core.Persistence;

public sealed class PlatformDbContext(DbContextOptions<PlatformDbContext> options)
    : IdentityDbContext<PlatformUser, IdentityRole<Guid>, Guid>(options)
{
    public DbSet<Account> Accounts => Set<Account>();
    public DbSet<Membership> Memberships => Set<Membership>();
    public DbSet<Invitation> Invitations => Set<Invitation>();
    public DbSet<AccessKey> AccessKeys => Set<AccessKey>();
    public DbSet<OutboxMessage> Outbox => Set<OutboxMessage>();
    public DbSet<PlatformSetting> Settings => Set<PlatformSetting>();
    public DbSet<ComponentHeartbeat> Heartbeats => Set<ComponentHeartbeat>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<Artifact> Artifacts => Set<Artifact>();
    public DbSet<ArtifactVersion> ArtifactVersions => Set<ArtifactVersion>();
    public DbSet<ArtifactFile> ArtifactFiles => Set<ArtifactFile>();
    public DbSet<ArtifactShare> ArtifactShares => Set<ArtifactShare>();
    public DbSet<ArtifactAlias> ArtifactAliases => Set<ArtifactAlias>();
    public DbSet<Upload> Uploads => Set<Upload>();
    public DbSet<UploadPart> UploadParts => Set<UploadPart>();
    public DbSet<Deployment> Deployments => Set<Deployment>();
    public DbSet<DeploymentEvent> DeploymentEvents => Set<DeploymentEvent>();
    public DbSet<Notifications.Notification> Notifications => Set<Notifications.Notification>();
    public DbSet<DeploymentShare> DeploymentShares => Set<DeploymentShare>();
    public DbSet<Jobs.Job> Jobs => Set<Jobs.Job>();
    public DbSet<Jobs.JobReplica> JobReplicas => Set<Jobs.JobReplica>();
    public DbSet<Jobs.JobEvent> JobEvents => Set<Jobs.JobEvent>();
    public DbSet<Jobs.JobLogChunk> JobLogChunks => Set<Jobs.JobLogChunk>();
    public DbSet<Jobs.UsageSample> UsageSamples => Set<Jobs.UsageSample>();
    public DbSet<Jobs.UsageRecord> UsageRecords => Set<Jobs.UsageRecord>();
    public DbSet<Jobs.JobQuota> JobQuotas => Set<Jobs.JobQuota>();
    public DbSet<Usage.UsageInterval> UsageIntervals => Set<Usage.UsageInterval>();
    public DbSet<Metrics.Run> Runs => Set<Metrics.Run>();
    public DbSet<Metrics.RunGraph> RunGraphs => Set<Metrics.RunGraph>();
    public DbSet<Metrics.MetricSeries> MetricSeries => Set<Metrics.MetricSeries>();
    public DbSet<Metrics.MetricPoint> MetricPoints => Set<Metrics.MetricPoint>();
    public DbSet<Metrics.MetricRollup> MetricRollups => Set<Metrics.MetricRollup>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(PlatformDbContext).Assembly);
    }
}
