namespace Platform.Core.Persistence.Migrations;

/// <summary>
/// Migrations whose DDL is kept as reviewed .sql files embedded in the assembly. New migrations may equally use
/// MigrationBuilder operations; either way MigrationsMatchTheModel (tests) fails when the schema drifts from the model.
/// </summary>
internal static class MigrationScripts
{
    public static string Read(string fileName)
    {
        var assembly = typeof(MigrationScripts).Assembly;
        var name = assembly.GetManifestResourceNames().Single(n => n.EndsWith("." + fileName, StringComparison.Ordinal));
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
