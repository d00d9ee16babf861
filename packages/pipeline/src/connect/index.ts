export { type BoardUart, type ConnectBoardsOptions, connectBoards } from './connect-boards.js';
