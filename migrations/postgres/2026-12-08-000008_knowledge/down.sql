DROP TABLE knowledge_versions;
DROP TABLE knowledge_articles;
