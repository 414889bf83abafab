/** Entry: i18n, the session, the routes. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './i18n/index.js';
import './style.css';
import { SessionProvider } from './session.js';
import { App } from './shell/App.js';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <SessionProvider>
      <App />
    </SessionProvider>
  </StrictMode>,
);
