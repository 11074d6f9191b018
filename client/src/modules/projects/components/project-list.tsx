import type { Project } from '../api/projects-api';
import { ProjectCard } from './project-card';
import './projects.css';

export interface ProjectListProps {
  projects: Project[];
  isAdmin: boolean;
}

export function ProjectList({ projects, isAdmin }: ProjectListProps) {
  return (
    <ul className="project-grid" aria-label="Projects">
      {projects.map((project) => (
        <li key={project.id}>
          <ProjectCard project={project} role={project.myRole ?? (isAdmin ? 'admin' : undefined)} />
        </li>
      ))}
    </ul>
  );
}
