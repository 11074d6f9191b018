import { labelingSlug, usePath } from './lib/router';
import { useSession } from './modules/auth/hooks/use-session';
import { LabelPage } from './pages/label-page';
import { LoginPage } from './pages/login-page';
import { ProjectsPage } from './pages/projects-page';
import { LoadingPage, ServerUnavailablePage } from './pages/status-pages';

export function App() {
  const { state, signIn, signOut, retry } = useSession();
  const path = usePath();

  switch (state.status) {
    case 'loading':
      return <LoadingPage />;
    case 'unavailable':
      return <ServerUnavailablePage error={state.error} onRetry={retry} />;
    case 'signed-out':
      return <LoginPage onSignIn={signIn} notice={state.notice} />;
    case 'signed-in': {
      const slug = labelingSlug(path);
      if (slug) return <LabelPage key={slug} slug={slug} session={state.session} onSignOut={signOut} />;
      return <ProjectsPage session={state.session} onSignOut={signOut} />;
    }
  }
}
