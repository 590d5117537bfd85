DROP TRIGGER knowledge_terms_delete;
DROP TRIGGER knowledge_terms_update;
DROP TRIGGER knowledge_terms_insert;
DROP TABLE knowledge_terms;
DROP TRIGGER knowledge_versions_no_delete;
DROP TRIGGER knowledge_versions_no_update;
DROP TABLE knowledge_versions;
DROP TABLE knowledge_articles;
