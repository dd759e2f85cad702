using System.Runtime.Versioning;

// Like the AppHost they test, these tests drive POSIX processes (signals, /proc): not a Windows target.
[assembly: UnsupportedOSPlatform("windows")]
