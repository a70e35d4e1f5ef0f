using Microsoft.Data.Sqlite;

namespace BlogApi.Data;

/// <summary>
/// The blog's SQLite database: plain ADO.NET (Microsoft.Data.Sqlite) with hand-written, parameterized SQL, which
/// publishes with Native AOT with no warnings. One instance serves the app; every call opens a pooled connection.
/// The queries are in the partial files next to this one, one per area.
/// </summary>
public sealed partial class BlogDb
{
    private readonly string _connectionString;

    public BlogDb(string connectionString)
    {
        // Foreign keys are enforced on every connection (SQLite's default is off), unless the connection string says otherwise.
        var builder = new SqliteConnectionStringBuilder(connectionString);
        builder.ForeignKeys ??= true;
        _connectionString = builder.ToString();
    }

    /// <summary>Creates the tables and indexes that are missing; an existing database is left as it is.</summary>
    public async Task EnsureCreatedAsync(CancellationToken ct)
    {
        await using SqliteConnection connection = await OpenAsync(ct);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText =
            """
            PRAGMA journal_mode = 'wal';

            CREATE TABLE IF NOT EXISTS "Categories" (
                "Id" INTEGER NOT NULL CONSTRAINT "PK_Categories" PRIMARY KEY AUTOINCREMENT,
                "Name" TEXT NOT NULL,
                "Slug" TEXT NOT NULL
            );

            CREATE TABLE IF NOT EXISTS "Users" (
                "Id" INTEGER NOT NULL CONSTRAINT "PK_Users" PRIMARY KEY AUTOINCREMENT,
                "Name" TEXT NOT NULL,
                "Email" TEXT NOT NULL,
                "Bio" TEXT NOT NULL
            );

            CREATE TABLE IF NOT EXISTS "Posts" (
                "Id" INTEGER NOT NULL CONSTRAINT "PK_Posts" PRIMARY KEY AUTOINCREMENT,
                "AuthorId" INTEGER NOT NULL,
                "CategoryId" INTEGER NOT NULL,
                "Title" TEXT NOT NULL,
                "Body" TEXT NOT NULL,
                "Views" INTEGER NOT NULL,
                "CreatedAt" TEXT NOT NULL,
                CONSTRAINT "FK_Posts_Categories_CategoryId" FOREIGN KEY ("CategoryId") REFERENCES "Categories" ("Id") ON DELETE CASCADE,
                CONSTRAINT "FK_Posts_Users_AuthorId" FOREIGN KEY ("AuthorId") REFERENCES "Users" ("Id") ON DELETE CASCADE
            );

            CREATE TABLE IF NOT EXISTS "Comments" (
                "Id" INTEGER NOT NULL CONSTRAINT "PK_Comments" PRIMARY KEY AUTOINCREMENT,
                "PostId" INTEGER NOT NULL,
                "AuthorId" INTEGER NOT NULL,
                "Text" TEXT NOT NULL,
                "CreatedAt" TEXT NOT NULL,
                CONSTRAINT "FK_Comments_Posts_PostId" FOREIGN KEY ("PostId") REFERENCES "Posts" ("Id") ON DELETE CASCADE,
                CONSTRAINT "FK_Comments_Users_AuthorId" FOREIGN KEY ("AuthorId") REFERENCES "Users" ("Id") ON DELETE RESTRICT
            );

            CREATE UNIQUE INDEX IF NOT EXISTS "IX_Categories_Slug" ON "Categories" ("Slug");
            CREATE INDEX IF NOT EXISTS "IX_Comments_AuthorId" ON "Comments" ("AuthorId");
            CREATE INDEX IF NOT EXISTS "IX_Comments_PostId" ON "Comments" ("PostId");
            CREATE INDEX IF NOT EXISTS "IX_Posts_AuthorId" ON "Posts" ("AuthorId");
            CREATE INDEX IF NOT EXISTS "IX_Posts_CategoryId" ON "Posts" ("CategoryId");
            CREATE INDEX IF NOT EXISTS "IX_Posts_Views" ON "Posts" ("Views");
            CREATE UNIQUE INDEX IF NOT EXISTS "IX_Users_Email" ON "Users" ("Email");
            """;
        await command.ExecuteNonQueryAsync(ct);
    }

    internal async Task<SqliteConnection> OpenAsync(CancellationToken ct)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    internal static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        foreach ((string name, object? value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    // Runs a query and reads every row with the given function.
    private async Task<T[]> QueryAsync<T>(string sql, Func<SqliteDataReader, T> read, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using SqliteConnection connection = await OpenAsync(ct);
        await using SqliteCommand command = Command(connection, sql, parameters);
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<T>();
        while (await reader.ReadAsync(ct))
        {
            rows.Add(read(reader));
        }

        return rows.ToArray();
    }

    // The first row, or null.
    private async Task<T?> QueryFirstAsync<T>(string sql, Func<SqliteDataReader, T> read, CancellationToken ct, params (string Name, object? Value)[] parameters)
        where T : class
        => (await QueryAsync(sql, read, ct, parameters)).FirstOrDefault();

    // The first column of the first row, as an integer (counts, sums, EXISTS, ids).
    private async Task<long> ScalarAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using SqliteConnection connection = await OpenAsync(ct);
        await using SqliteCommand command = Command(connection, sql, parameters);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    // Runs a statement; returns the number of rows it changed.
    private async Task<int> ExecuteAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using SqliteConnection connection = await OpenAsync(ct);
        await using SqliteCommand command = Command(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync(ct);
    }
}
