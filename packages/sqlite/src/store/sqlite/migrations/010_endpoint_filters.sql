SELECT 1; -- reserved: endpoint filters
