import './ui/theme.css';
import { StrictMode, Suspense } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClientProvider } from '@tanstack/react-query';
import { App } from './app';
import { createQueryClient } from './lib/query';
import { SessionProvider } from './modules/auth/hooks/use-session';
import { LoadingPage } from './pages/status-pages';

const container = document.getElementById('root');
if (!container) throw new Error('Backflow: #root element missing from index.html');

createRoot(container).render(
  <StrictMode>
    <QueryClientProvider client={createQueryClient()}>
      <SessionProvider>
        {/* a screen loaded when first opened (app.tsx) shows the loading page meanwhile */}
        <Suspense fallback={<LoadingPage />}>
          <App />
        </Suspense>
      </SessionProvider>
    </QueryClientProvider>
  </StrictMode>,
);
