-- The policy knowledge base (惠企政策知识库, DESIGN.md "Wave 2 contract": Knowledge): articles,
-- and every version of each, written with it in one transaction. Dates are local days written
-- YYYY-MM-DD, as calendar_days keeps them; keywords and changed are JSON arrays of strings.
-- search_text is the article's search terms (domain::terms), space-separated: SQLite finds them
-- through the FTS5 table knowledge_terms, which the triggers below keep in step.
CREATE TABLE knowledge_articles (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    keywords    TEXT NOT NULL,
    department  TEXT NOT NULL REFERENCES departments (code),
    doc_number  TEXT,
    valid_from  TEXT,
    valid_to    TEXT,
    state       TEXT NOT NULL CHECK (state IN ('draft', 'published', 'archived')),
    visibility  TEXT NOT NULL CHECK (visibility IN ('internal', 'public')),
    version     BIGINT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    created_by  TEXT NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    updated_by  TEXT NOT NULL,
    search_text TEXT NOT NULL,
    CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to)
);
CREATE INDEX knowledge_articles_department_idx ON knowledge_articles (department, id);
CREATE INDEX knowledge_articles_state_idx ON knowledge_articles (state, id);

-- What each version said, who wrote it and which fields it changed; append-only.
CREATE TABLE knowledge_versions (
    article_id TEXT NOT NULL REFERENCES knowledge_articles (id),
    version    BIGINT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    keywords   TEXT NOT NULL,
    department TEXT NOT NULL REFERENCES departments (code),
    doc_number TEXT,
    valid_from TEXT,
    valid_to   TEXT,
    state      TEXT NOT NULL,
    visibility TEXT NOT NULL,
    changed    TEXT NOT NULL,
    at         TIMESTAMP NOT NULL,
    "by"       TEXT NOT NULL,
    PRIMARY KEY (article_id, version)
);
-- 知识库更新数: versions written in a period, by department.
CREATE INDEX knowledge_versions_at_idx ON knowledge_versions (at, department);
CREATE TRIGGER knowledge_versions_no_update BEFORE UPDATE ON knowledge_versions
BEGIN
    SELECT RAISE(ABORT, 'knowledge_versions is append-only');
END;
CREATE TRIGGER knowledge_versions_no_delete BEFORE DELETE ON knowledge_versions
BEGIN
    SELECT RAISE(ABORT, 'knowledge_versions is append-only');
END;

-- The article's id is a column of the index rather than its rowid: an article's rowid is not
-- kept by VACUUM (its key is TEXT), so an index keyed by it could come to point at the wrong
-- article. Replacing an article's terms scans the index's rows for its id: a knowledge base
-- holds thousands of articles, edited now and then.
CREATE VIRTUAL TABLE knowledge_terms USING fts5 (article_id UNINDEXED, terms, tokenize = 'unicode61');
CREATE TRIGGER knowledge_terms_insert AFTER INSERT ON knowledge_articles
BEGIN
    INSERT INTO knowledge_terms (article_id, terms) VALUES (NEW.id, NEW.search_text);
END;
CREATE TRIGGER knowledge_terms_update AFTER UPDATE OF search_text ON knowledge_articles
BEGIN
    DELETE FROM knowledge_terms WHERE article_id = OLD.id;
    INSERT INTO knowledge_terms (article_id, terms) VALUES (NEW.id, NEW.search_text);
END;
CREATE TRIGGER knowledge_terms_delete AFTER DELETE ON knowledge_articles
BEGIN
    DELETE FROM knowledge_terms WHERE article_id = OLD.id;
END;
