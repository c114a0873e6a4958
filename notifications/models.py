# The transactional outbox of notifications arrives with the paging issue (part 2).
