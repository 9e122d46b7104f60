export { collab, collabRedo, collabUndo, fromDocument, type CollabOptions } from './collab.js';
export { remoteCursors, setRemoteUsers } from './remote-cursors.js';
export { commentMarks, setCommentThreads } from './comment-marks.js';
export { mediaImages, mediaPaste, type MediaImagesOptions, type MediaPasteOptions } from './media-images.js';
