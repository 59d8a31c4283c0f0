"""Worker-side jobs: the engine calls the bridge runs on its thread, one module per job, and
`names.JobName`, the name each is submitted under. Nothing here builds widgets; jobs take plain
values (and the open Project) and hand back plain values or events."""
