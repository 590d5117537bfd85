-- The policy knowledge base (惠企政策知识库, DESIGN.md "Wave 2 contract": Knowledge): articles,
-- and every version of each, written with it in one transaction. Dates are local days written
-- YYYY-MM-DD, as calendar_days keeps them; keywords and changed are JSON arrays of strings.
-- search_text is the article's search terms (domain::terms), space-separated: PostgreSQL finds
-- them through a GIN index of the terms as a tsvector, built without a text-search parser (whose
-- words would depend on the server's locale).
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
-- Queries match this very expression (store::backend::knowledge_search).
CREATE INDEX knowledge_articles_terms_idx ON knowledge_articles
    USING GIN (array_to_tsvector(string_to_array(search_text, ' ')));

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
CREATE TRIGGER knowledge_versions_append_only BEFORE UPDATE OR DELETE ON knowledge_versions
    FOR EACH ROW EXECUTE FUNCTION closedloop_refuse_change('knowledge_versions is append-only');
