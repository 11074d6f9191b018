import { Card } from '../../../ui/card';
import { Skeleton } from '../../../ui/skeleton';
import './projects.css';

export function ProjectListSkeleton() {
  return (
    <div className="project-grid" role="status" aria-label="Loading projects">
      {[0, 1, 2].map((index) => (
        <Card key={index} className="project-card project-card--placeholder">
          <Skeleton width="55%" height="1.15rem" />
          <Skeleton width="30%" />
          <Skeleton width="80%" />
          <span className="project-card__placeholder-chips">
            <Skeleton width="4.5rem" height="1.6rem" />
            <Skeleton width="3.5rem" height="1.6rem" />
            <Skeleton width="5rem" height="1.6rem" />
          </span>
        </Card>
      ))}
    </div>
  );
}
