namespace BlogApi.Data;

// What the API returns and accepts (and so what the cache stores): plain records, serialized by BlogJsonContext.
public sealed record PostDto(int Id, int AuthorId, int CategoryId, string Title, string Body, int Views, DateTime CreatedAt);

public sealed record PostSummary(int Id, int AuthorId, int CategoryId, string Title, DateTime CreatedAt);

public sealed record UserProfileDto(int Id, string Name, string Bio, int PostCount);

public sealed record CategoryDto(int Id, string Name, string Slug);

public sealed record CommentDto(int Id, int PostId, int AuthorId, string Text, DateTime CreatedAt);

public sealed record LiveStats(int Users, int Posts, int Comments, long TotalViews, DateTime At);

public sealed record AuthorRank(int AuthorId, string Name, int Posts, long Views, int Comments);

public sealed record PostUpdate(int AuthorId, int CategoryId, string Title, string Body);

public sealed record PostMove(int AuthorId, int From, int To);

public sealed record NewPost(int AuthorId, int CategoryId, string Title, string Body);

public sealed record ProfileUpdate(string Bio);

public sealed record UserUpdate(string Name);

public sealed record CategoryUpdate(string Name);

public sealed record NewComment(int AuthorId, string Text);
