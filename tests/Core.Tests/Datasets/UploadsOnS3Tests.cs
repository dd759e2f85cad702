using System.Security.Cryptography;
using Platform.Core.Accounts;
using Platform.Core.Common;
using Platform.Core.Datasets;
using Platform.Core.Persistence;
using Platform.Core.Storage;
using Platform.Tests.Fixtures;

namespace Platform.Core.Tests.Datasets;

/// <summary>
/// Resumable uploads through the service on a real S3 server (Swift's s3api): the store the API tests do not use. Parts
/// of the platform's size, a part sent again, a body longer than its part, a wrong declared hash.
/// </summary>
public sealed class UploadsOnS3Tests : IAsyncLifetime, IDisposable
{
    private S3ObjectStore _store = null!;
    private PlatformDbContext _db = null!;
    private DatasetService _datasets = null!;
    private Guid _userId;
    private Guid _accountId;
    private Guid _datasetId;

    public async Task InitializeAsync()
    {
        var server = await SwiftS3Server.GetAsync();
        var bucket = await server.CreateBucketAsync("uploads");
        _store = new S3ObjectStore(ObjectStoreSettings.Parse(
            $"Endpoint={server.Endpoint};Bucket={bucket};AccessKey={server.AccessKey};SecretKey={server.SecretKey};" +
            $"Region={server.Region};CaCertificate={server.CaCertificatePath}").S3!);
        await _store.EnsureReadyAsync();

        var postgres = await PostgresServer.GetAsync();
        var database = await postgres.CreateDatabaseAsync("uploads_s3");
        await DatabaseMigrator.MigrateAsync(database);
        _db = DatabaseMigrator.CreateContext(database);
        var now = DateTimeOffset.UtcNow;
        var account = new Account { Id = Guid.CreateVersion7(), Name = "s3", CreatedAt = now };
        var user = new PlatformUser { Id = Guid.CreateVersion7(), UserName = "s3@example.test", Email = "s3@example.test", DisplayName = "S3", CreatedAt = now };
        _db.Accounts.Add(account);
        _db.Users.Add(user);
        _db.Memberships.Add(new Membership { AccountId = account.Id, UserId = user.Id, Role = AccountRole.Master, JoinedAt = now });
        await _db.SaveChangesAsync();
        _userId = user.Id;
        _accountId = account.Id;
        _datasets = new DatasetService(_db, new AccountService(_db, TimeProvider.System), _store, TimeProvider.System);
        var created = await _datasets.CreateAsync(_userId, new CreateDatasetRequest(account.Id, "on-s3", null, null, null));
        _datasetId = created.Value!.Id;
    }

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    public void Dispose() => _store?.Dispose();

    private async Task<UploadResponse> StartAsync(byte[] file, string path, string? sha256 = null)
    {
        var started = await _datasets.StartUploadAsync(_userId, _datasetId, new StartUploadRequest(path, file.Length, sha256));
        Assert.True(started.IsSuccess, started.Error?.Message);
        return started.Value!;
    }

    private async Task SendAsync(UploadResponse upload, byte[] file, int number, long? declared = null)
    {
        var from = (number - 1) * upload.PartSize;
        var length = Math.Min(upload.PartSize, file.Length - from);
        var sent = await _datasets.UploadPartAsync(_userId, _datasetId, upload.UploadId, number, new MemoryStream(file, from, length), declared ?? length);
        Assert.True(sent.IsSuccess, sent.Error?.Message);
    }

    [Fact]
    public async Task PartsInAnyOrder_AndOneSentAgain_CompleteToTheExactBytes()
    {
        var file = RandomNumberGenerator.GetBytes(2 * UploadLimits.DefaultPartSize + 12345);
        var upload = await StartAsync(file, "model/weights.bin", Convert.ToHexStringLower(SHA256.HashData(file)));
        Assert.Equal(3, upload.PartCount);
        await SendAsync(upload, file, 2);
        await SendAsync(upload, file, 3);
        await SendAsync(upload, file, 2);
        await SendAsync(upload, file, 1);
        var state = await _datasets.GetUploadAsync(_userId, _datasetId, upload.UploadId);
        Assert.Equal([1, 2, 3], state.Value!.Received);
        Assert.Equal(file.Length, state.Value.ReceivedBytes);

        var completed = await _datasets.CompleteUploadAsync(_userId, _datasetId, upload.UploadId);
        Assert.True(completed.IsSuccess, completed.Error?.Message);
        var opened = await _datasets.OpenFileAsync(_userId, _datasetId, "draft", "model/weights.bin", null);
        await using var reader = opened.Value!.Reader;
        var copy = new MemoryStream();
        await reader.Content.CopyToAsync(copy);
        Assert.Equal(file, copy.ToArray());
        Assert.Equal(file.Length, (await _datasets.UsageOfAsync(_accountId)).UsedBytes);
    }

    [Fact]
    public async Task ABodyOfUnknownLengthLongerThanItsPart_IsRefused_AndNothingIsStoredForIt()
    {
        var file = RandomNumberGenerator.GetBytes(UploadLimits.DefaultPartSize + 10);
        var upload = await StartAsync(file, "long.bin");
        var longer = new MemoryStream(RandomNumberGenerator.GetBytes(UploadLimits.DefaultPartSize + 1));
        await Assert.ThrowsAsync<IOException>(() => _datasets.UploadPartAsync(_userId, _datasetId, upload.UploadId, 1, longer, null));
        Assert.Empty((await _datasets.GetUploadAsync(_userId, _datasetId, upload.UploadId)).Value!.Received);

        var wrong = await _datasets.UploadPartAsync(_userId, _datasetId, upload.UploadId, 2, new MemoryStream(new byte[11]), 11);
        Assert.Equal(ErrorKind.Validation, wrong.Error?.Kind);
        Assert.True((await _datasets.AbortUploadAsync(_userId, _datasetId, upload.UploadId)).IsSuccess);
        Assert.Equal(ErrorKind.NotFound, (await _datasets.GetUploadAsync(_userId, _datasetId, upload.UploadId)).Error?.Kind);
    }

    [Fact]
    public async Task AWrongDeclaredHash_DeletesTheObject_AndAddsNothing()
    {
        var file = RandomNumberGenerator.GetBytes(UploadLimits.DefaultPartSize + 10);
        var upload = await StartAsync(file, "wrong.bin", new string('a', 64));
        await SendAsync(upload, file, 1);
        await SendAsync(upload, file, 2);
        var key = _db.Uploads.Single(u => u.Id == upload.UploadId).ObjectKey;

        var completed = await _datasets.CompleteUploadAsync(_userId, _datasetId, upload.UploadId);
        Assert.Contains("sha256", completed.Error!.Fields!.Keys);
        Assert.Null(await _store.HeadAsync(key));
        Assert.Empty((await _datasets.ListFilesAsync(_userId, _datasetId, "draft", null, null, null)).Value!.Items);
        Assert.DoesNotContain(_db.Uploads, u => u.Id == upload.UploadId);
    }
}
