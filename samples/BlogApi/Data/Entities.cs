namespace BlogApi.Data;

public sealed class User
{
    public int Id { get; set; }

    public required string Name { get; set; }

    public required string Email { get; set; }

    public string Bio { get; set; } = string.Empty;

    public List<Post> Posts { get; set; } = [];
}

public sealed class Category
{
    public int Id { get; set; }

    public required string Name { get; set; }

    public required string Slug { get; set; }
}

public sealed class Post
{
    public int Id { get; set; }

    public int AuthorId { get; set; }

    public User? Author { get; set; }

    public int CategoryId { get; set; }

    public Category? Category { get; set; }

    public required string Title { get; set; }

    public required string Body { get; set; }

    public int Views { get; set; }

    public DateTime CreatedAt { get; set; }

    public List<Comment> Comments { get; set; } = [];
}

public sealed class Comment
{
    public int Id { get; set; }

    public int PostId { get; set; }

    public Post? Post { get; set; }

    public int AuthorId { get; set; }

    public User? Author { get; set; }

    public required string Text { get; set; }

    public DateTime CreatedAt { get; set; }
}
