export { type BoardUart, type ConnectBoardsOptions, connectBoards } from './connect-boards.js';
export { hostEmbedder } from './host-embedder.js';
