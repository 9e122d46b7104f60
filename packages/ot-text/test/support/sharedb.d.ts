declare module 'sharedb';
