import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TimePartitions } from '../common/database/time-partitions';

/**
 * The partitions of `predictions` (`backflow_prediction_partitions`), made before a batch is
 * written; retention forgets a project's days when it removes partitions.
 */
@Injectable()
export class PredictionPartitions extends TimePartitions {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource, { table: 'predictions', registry: 'prediction_partitions', ensureFunction: 'backflow_prediction_partitions' });
  }
}
