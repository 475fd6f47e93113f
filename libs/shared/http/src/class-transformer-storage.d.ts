// class-transformer ships the types of its metadata storage under types/ and the code under cjs/, with no
// "exports" map joining them: the module the code is loaded from, typed.
declare module 'class-transformer/cjs/storage' {
  export * from 'class-transformer/types/storage';
}
