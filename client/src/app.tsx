import { useSession } from './modules/auth/hooks/use-session';
import { LoginPage } from './pages/login-page';
import { ProjectsPage } from './pages/projects-page';
import { LoadingPage, ServerUnavailablePage } from './pages/status-pages';

export function App() {
  const { state, signIn, signOut, retry } = useSession();

  switch (state.status) {
    case 'loading':
      return <LoadingPage />;
    case 'unavailable':
      return <ServerUnavailablePage error={state.error} onRetry={retry} />;
    case 'signed-out':
      return <LoginPage onSignIn={signIn} notice={state.notice} />;
    case 'signed-in':
      return <ProjectsPage session={state.session} onSignOut={signOut} />;
  }
}
