/** Shared by the durability tests and their child process, which must open the file with the same layout. */
export const PARTITION_COUNT = 4;
